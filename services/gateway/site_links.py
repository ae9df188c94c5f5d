"""The links of the hub's MAC Express sites, as the API's overview and the operators' pages read
them.

The composition root (main.py) builds the callable from services/sites/links.py: the gateway's
routes and pages never reach the sites' streams themselves. It raises `DependencyUnavailable`
when the bus does not answer.
"""

from collections.abc import Awaitable, Callable

from schemas.sites import SiteLink

SiteLinks = Callable[[], Awaitable[list[SiteLink]]]
