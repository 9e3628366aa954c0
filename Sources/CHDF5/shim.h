#include <hdf5.h>
// HDF5's type and flag "constants" are macros that call H5open(); Swift cannot import
// them, so they are wrapped as static inline functions.
static inline hid_t basin_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t basin_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t basin_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t basin_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t basin_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t basin_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t basin_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline unsigned basin_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned basin_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned basin_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline hid_t basin_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t basin_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
