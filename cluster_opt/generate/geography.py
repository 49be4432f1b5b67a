"""Regions for the generator: names, positions, latency between them, and prices by zone."""

from __future__ import annotations

import math

import numpy as np

#: (name, latitude, longitude, relative price level)
REGION_CATALOGUE: tuple[tuple[str, float, float, float], ...] = (
    ("us-east", 38.9, -77.4, 1.00),
    ("eu-west", 53.3, -6.3, 1.08),
    ("ap-northeast", 35.7, 139.7, 1.18),
    ("us-west", 45.6, -121.2, 1.00),
    ("eu-central", 50.1, 8.7, 1.12),
    ("ap-south", 19.1, 72.9, 0.92),
    ("sa-east", -23.5, -46.6, 1.35),
    ("ap-southeast", 1.35, 103.8, 1.15),
    ("ca-central", 45.5, -73.6, 1.04),
    ("af-south", -33.9, 18.4, 1.25),
    ("me-central", 25.2, 55.3, 1.20),
    ("ap-southeast-2", -33.9, 151.2, 1.22),
)


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in km between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def round_trip_ms(km: float) -> float:
    """Round-trip time over fibre: 200 km/ms each way, routes 1.4x the great circle, plus
    2 ms of switching; within a region 1 ms."""
    return round(2.0 + 2 * 1.4 * km / 200.0, 1) if km > 0 else 1.0


def region_names(k: int) -> list[str]:
    if not 1 <= k <= len(REGION_CATALOGUE):
        raise ValueError(f"--regions must be in 1..{len(REGION_CATALOGUE)}")
    return [r[0] for r in REGION_CATALOGUE[:k]]


def latency_table(regions: list[str]) -> list[tuple[str, str, float]]:
    """(src, dst, ms) for every ordered pair of distinct regions."""
    pos = {r[0]: (r[1], r[2]) for r in REGION_CATALOGUE}
    return [
        (a, b, round_trip_ms(great_circle_km(pos[a], pos[b]))) for a in regions for b in regions if a != b
    ]


#: On-demand $/h per unit in a region with price level 1.0.
BASE_UNIT_PRICE = {"cpu": 0.034, "mem_gb": 0.0045, "gpus": 0.9}
RESERVED_DISCOUNT = 0.62


def zone_prices(
    regions: list[str], zones: dict[str, list[str]], rng: np.random.Generator
) -> list[tuple[str, str, str, float, float, float]]:
    """(region, zone, item, on_demand, reserved, spot) rows: per-unit prices scaled by the
    region's price level, reserved at a fixed discount, spot at a random 15-45 % of on-demand
    per zone and resource (spot markets differ by zone); plus host:* hourly cost."""
    level = {r[0]: r[3] for r in REGION_CATALOGUE}
    rows = []
    for region in regions:
        for zone in zones[region]:
            for item, base in BASE_UNIT_PRICE.items():
                od = round(base * level[region], 5)
                spot = round(od * rng.uniform(0.15, 0.45), 5)
                rows.append((region, zone, item, od, round(od * RESERVED_DISCOUNT, 5), spot))
            rows.append((region, zone, "host:*", round(0.25 * level[region], 4), float("nan"), float("nan")))
    return rows
