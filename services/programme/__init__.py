"""Programme service: topics, ballots and the annual programme."""
