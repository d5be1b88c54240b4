"""Strategic objectives: the business goals a PMO aligns the portfolio with, each with
a weight (how much it counts against the others) and the period it covers."""
