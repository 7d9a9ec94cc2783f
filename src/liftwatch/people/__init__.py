"""People of the elevator trade: certified workers (特种设备作业人员证) and their training, and the use units'
emergency drills (应急演练)."""
