# source: pytorch/tutorials beginner_source/blitz/autograd_tutorial.py (current "A Gentle Introduction to torch.autograd" edition) (what was changed: torchvision resnet18 sections dropped, torch.manual_seed(0) added, comment blocks trimmed, final expression `Q` appended)
import torch

torch.manual_seed(0)

######################################################################
# Differentiation in Autograd
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

######################################################################
# We create another tensor ``Q`` from ``a`` and ``b``.

Q = 3*a**3 - b**2

# We need to explicitly pass a ``gradient`` argument in ``Q.backward()`` because it is a vector.
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)


#######################################################################
# Gradients are now deposited in ``a.grad`` and ``b.grad``

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

######################################################################
# Exclusion from the DAG
# ^^^^^^^^^^^^^^^^^^^^^^

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients? : {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
Q
