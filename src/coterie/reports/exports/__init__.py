"""Downloads of reports and dashboards, computed as the caller: CSV, XLSX and the QBR deck."""
