"""The embedded stack: Tansu (Kafka), SecantusDB (MongoDB) and an aiosmtpd mail sink."""
