"""Main parts (主要部件) of each elevator, their design life, and manufacturers' recalls (召回)."""
