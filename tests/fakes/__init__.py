"""Local servers that speak each provider's documented wire format, with fault injection."""
