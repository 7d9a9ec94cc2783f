"""liftwatch: a city's smart-elevator (智慧电梯) and 96333 emergency-rescue platform."""

__version__ = "0.1.0"
