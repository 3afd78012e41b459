"""The data: where the images come from (``sources``, ``pictures``; Fashion-MNIST's official IDX
files: ``fetch``, ``idx``), what ``fetch`` writes (``raw``), how it is split (``prepare``) into
the arrays later stages read (``dataset``), and their description (``description``)."""
