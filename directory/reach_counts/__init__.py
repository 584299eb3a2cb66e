"""Visits through the exports' short links, counted per activity, school, channel, week and day:
aggregate numbers only, nothing about who visited."""
