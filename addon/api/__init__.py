"""The add-on's HTTP API: handlers return data; ``envelope`` owns the response shape."""
