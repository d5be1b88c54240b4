"""Standards the service enforces: policies with machine-checked rules, the registry
of checks those rules use, and the compliance of projects and portfolios with them."""
