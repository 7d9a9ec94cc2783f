"""Credit and star ratings of maintenance units (星级评定, 红黑榜): docs/RATINGS.md."""
