"""Calendars, feeds and the embeddable widget: the filtered activities in other formats."""
