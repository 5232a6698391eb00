"""The officers' admin API (FastAPI, `/api/v1`, OpenAPI at `/docs`)."""
