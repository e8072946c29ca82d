"""healthbot package."""
