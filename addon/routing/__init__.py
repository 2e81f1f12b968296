"""Routing: candidate ordering strategies and provider health state."""
