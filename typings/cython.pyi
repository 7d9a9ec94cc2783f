# The part of Cython's pure Python mode liftwatch uses (telemetry/detector.py), typed for mypy: Cython ships
# no stubs. C types are their Python counterparts here; decorators keep the signature they decorate.
from collections.abc import Callable
from typing import Any, TypeVar, overload

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])

compiled: bool
longlong = int
double = float
bint = bool
Py_ssize_t = int
slonglong: Any  # only as an array's element type: cython.slonglong[13]

def cclass(cls: _T) -> _T: ...
def final(obj: _T) -> _T: ...
def no_gc(cls: _T) -> _T: ...
def cfunc(func: _F) -> _F: ...
def locals(**types: Any) -> Callable[[_F], _F]: ...
@overload
def declare(type: Any) -> Any: ...
@overload
def declare(type: Any, value: _T, visibility: str = ...) -> _T: ...
