"""The company properties the mock account defines, and the check writes go through.

HubSpot rejects a write that sets a property the account does not define with 400
``VALIDATION_ERROR``. The message embeds a JSON list of the invalid values, each with the
error ``PROPERTY_DOESNT_EXIST``. Reads that ask for an undefined property leave it out.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from pytest_syncbench.hubspot.config import HubSpotConfig
from pytest_syncbench.hubspot.errors import ApiError
from pytest_syncbench.hubspot.store import READ_ONLY_PROPERTIES

# Properties every HubSpot account has on companies (HubSpot's default company
# properties), which include every property the generator gives a company.
DEFAULT_COMPANY_PROPERTIES = frozenset(
    {
        "about_us",
        "address",
        "address2",
        "annualrevenue",
        "city",
        "country",
        "description",
        "domain",
        "founded_year",
        "hubspot_owner_id",
        "industry",
        "is_public",
        "lifecyclestage",
        "linkedin_company_page",
        "name",
        "numberofemployees",
        "phone",
        "state",
        "timezone",
        "type",
        "website",
        "zip",
    }
)


def defined_properties(config: HubSpotConfig) -> frozenset[str]:
    """Return every property a write may set or name in the account of ``config``."""
    base = config.company_properties
    if base is None:
        base = DEFAULT_COMPANY_PROPERTIES
    return base | config.unique_properties | READ_ONLY_PROPERTIES


def check_defined(names: Iterable[str], defined: frozenset[str]) -> None:
    """Raise HubSpot's 400 when a write sets properties the account does not define."""
    unknown = [name for name in names if name not in defined]
    if not unknown:
        return
    details = [
        {
            "isValid": False,
            "message": f'Property "{name}" does not exist',
            "error": "PROPERTY_DOESNT_EXIST",
            "name": name,
            "localizedErrorMessage": f'Property "{name}" does not exist',
        }
        for name in unknown
    ]
    raise ApiError(
        400,
        "VALIDATION_ERROR",
        f"Property values were not valid: {orjson.dumps(details).decode()}",
    )
