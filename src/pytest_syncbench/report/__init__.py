"""``syncbench report``: an offline HTML dashboard or a short Markdown summary of saved runs.

``load`` reads pytest-benchmark JSON, ``dataset`` picks the cases to answer from,
``questions`` and ``overview`` compute the sections, ``costs``, ``prices`` and
``codemetrics`` price each solution, ``svg`` and ``plots`` draw the charts, ``html`` and
``markdown`` render, ``trends`` plots saved runs over time and ``command`` is the CLI.
"""
