"""zstack-mock: a stateful simulator of the ZStack cloud REST API."""

__version__ = "0.1.0"
