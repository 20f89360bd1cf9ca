"""An experiment's tracked trials, a page at a time (the dashboard's experiments page).

    board = open_leaderboard(tracking_uri, "store-sales")
    page = board.page(Query(sort="metric:mae", algorithm="lightgbm", limit=50))

The backend is chosen by the address, as the store's is: a database MLflow tracks into
(``sqlite:///…``, ``postgresql://…``) is read directly, one query per page
(:class:`~.sql.SqlLeaderboard`); anything else goes through MLflow's client
(:class:`~.client.ClientLeaderboard`). The contract both keep is in :mod:`._base`.
"""

from __future__ import annotations

from mlcycle.ui.leaderboard._base import GATES, PAGE_SIZES, STATES, Leaderboard, Page, Points, Query, Trial

SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+", "mssql:", "mssql+")


def open_leaderboard(uri: str, experiment: str) -> Leaderboard:
    """The leaderboard of ``experiment`` in the tracking store at ``uri``."""
    if uri.startswith(SQL_SCHEMES):
        from mlcycle.ui.leaderboard.sql import SqlLeaderboard

        return SqlLeaderboard(uri, experiment)
    from mlcycle.ui.leaderboard.client import ClientLeaderboard

    return ClientLeaderboard(uri, experiment)


__all__ = ["GATES", "PAGE_SIZES", "STATES", "Leaderboard", "Page", "Points", "Query", "Trial", "open_leaderboard"]
