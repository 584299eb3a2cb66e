"""Distances on the Earth's surface, from stored coordinates (no external service).

Pure: standard library only, plain floats in and out. The clash finder's "nearby" and the
search's "near a school" both measure with it.
"""

from __future__ import annotations

import math

MEAN_EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in kilometres between two points given in decimal degrees.

    Haversine formula on a sphere of the mean Earth radius: within about 0.5 % of the
    ellipsoidal distance, far better than a parent needs to compare "1,2 km" with "3,4 km".
    """
    phi1, lam1, phi2, lam2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * MEAN_EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
