// BasinCheckpoint owns checkpoint I/O: the HDF5 layout of docs/FORMAT.md, validation of
// everything before use, and atomic writes.
import BasinCore
