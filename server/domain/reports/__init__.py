"""Reports for theater admins: occupancy analytics and the monthly settlement statement, both
computed by SQL aggregates on the theater's local days."""
