"""Data package: the add-in's sources (ribbon XML, VBA module) and the built 督查助手.xlam."""
