"""The daily situation report: the day's alerts by territoire and category, map, response
times and open alerts, as HTML, Markdown or PDF, in French or English."""
