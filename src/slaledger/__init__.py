"""slaledger: service-level agreements as code, measured, published and settled exactly."""

__version__ = "0.1.0"
