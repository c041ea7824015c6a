"""The HTTP views of the service: one blueprint per concern (each module's ``bp``),
and what they share: authentication, errors, request validation."""
