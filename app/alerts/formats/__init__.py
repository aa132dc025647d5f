"""Pure functions that render alerts in the formats operations rooms import (no I/O)."""
