"""Who did what outside an alert's own trail: phone number reveals, administration."""
