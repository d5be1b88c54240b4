"""A project's way through its methodology: phase transitions through the gates, and
the gate reviews that approve (or stop) them."""
