"""The data: the official IDX files, where they come from and how they are checked (``fetch``), read (``idx``) and split (``dataset``)."""
