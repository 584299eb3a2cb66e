"""Venues: the places where activities happen, as objects of a municipality (issue 13).

A venue has a name, an address, coordinates when known (never geocoded: typed, or imported) and
notes on its accessibility. Organisers pick one in the activity form or add a new one; the
municipality's admin corrects them; `/venues/<slug>` lists what happens there and
`GET /api/v1/venues` gives them to others.
"""
