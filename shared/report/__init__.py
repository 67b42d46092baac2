"""The activity report for Cap Rural's funders: the year's figures, fetched from the
services' report views, as a French HTML page with its charts and one CSV per table."""
