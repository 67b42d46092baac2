"""Registration service: members, eligibility, per-session sign-up, leaving and erasure."""
