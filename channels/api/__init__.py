"""HTTP and WebSocket routes of the channels API."""
