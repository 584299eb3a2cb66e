"""The value ranges an activity and a school keep to, whichever way they come in.

The web forms, the CSV imports, the API and the search all take their limits from here, so a
value one of them accepts is never refused by another.
"""

from __future__ import annotations

# The ages an activity may name, both ends included: children and youth up to 25.
AGE_RANGE = (0, 25)
# An activity's price in whole kroner, both ends included; 0 is free.
PRICE_RANGE = (0, 100_000)
# The grades (trinn) of a Norwegian primary and lower secondary school, both ends included.
GRADE_RANGE = (1, 10)
