"""revops: analytics pipeline for Sales Ops and RevOps metrics."""
