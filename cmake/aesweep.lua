-- Lmod modulefile for aesweep, installed as PREFIX/share/modulefiles/aesweep/VERSION.lua.
-- It finds its prefix from its own path, so an installed tree can be moved or copied.
local root = myFileName():match("^(.*)/share/modulefiles/") or "/usr/local"
local version = myModuleVersion()

whatis("Name: aesweep")
whatis("Version: " .. version)
whatis("Description: hyperparameter search for stacked autoencoders over MPI ranks")
help([[
aesweep ]] .. version .. [[: hyperparameter search for stacked autoencoders over MPI.
  aesweep run JOB.json [--out DIR]        mpirun -np N aesweep run ... on a node
  aesweep-report OUT/results.h5           the HTML report (aesweep-export, aesweep-compare)
  aesweep-export-model OUT/results.h5     the best model as a PyTorch module (--onnx)
  $AESWEEP_ROOT/share/aesweep/slurm/submit.sh JOB.json -n N -t T   one command on Slurm
  $AESWEEP_ROOT/share/aesweep/jobs/       example jobs
In Python: import aesweep_results (on PYTHONPATH).
Needs the MPI, OpenBLAS and HDF5 it was built with: load the same modules.
]])

prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("PYTHONPATH", pathJoin(root, "share/aesweep/analysis"))
setenv("AESWEEP_ROOT", root)
setenv("AESWEEP", pathJoin(root, "bin/aesweep"))
