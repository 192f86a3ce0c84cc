import Quell
print(Quell.version)
