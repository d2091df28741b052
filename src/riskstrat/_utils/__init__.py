"""Small shared utilities used by several stages (not public API)."""

from riskstrat._utils._warnings import warn_caller

__all__ = ["warn_caller"]
