"""deesc: a simulated-customer evaluation harness for de-escalation in customer support."""

from harness.errors import DeescError, SpecError

__version__ = "0.1.0"
__all__ = ["DeescError", "SpecError", "__version__"]
