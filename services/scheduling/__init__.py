"""Scheduling service: sessions, the bimonthly cadence, changes and reminders."""
