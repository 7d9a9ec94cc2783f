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
ulonglong = int
p_char = int  # pointers: only cast to and from (telemetry/detector.py, _field)
p_void = int
p_longlong = list[int]  # a pointer indexes as a list does
Py_hash_t = int
Py_UCS4 = str  # one character
int = int  # a C int
p_uchar = list[int]
slonglong: Any  # only as an array's element type: cython.slonglong[13]
uchar: Any  # likewise: cython.uchar[36]

def cclass(cls: _T) -> _T: ...
def final(obj: _T) -> _T: ...
def no_gc(cls: _T) -> _T: ...
def cfunc(func: _F) -> _F: ...
def inline(func: _F) -> _F: ...
def pointer(type: Any) -> Any: ...
def cast(type: Any, value: Any) -> Any: ...
def locals(**types: Any) -> Callable[[_F], _F]: ...
@overload
def declare(type: Any) -> Any: ...
@overload
def declare(type: Any, value: _T, visibility: str = ...) -> _T: ...
@overload
def declare(**names: Any) -> None: ...
