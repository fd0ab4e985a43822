# source: cs231n/cs231n.github.io assignments/2019/spring1819_assignment2.zip @3d84654 -> assignment2/PyTorch.ipynb (Part II "Barebones PyTorch", course-provided cells only) (what was changed: torchvision CIFAR-10 loading replaced by synthetic 3x32x32 TensorDatasets with a `.train` flag (torch.manual_seed(0); 10 train batches of 64, under chainrule's 2,000,000-element tensor cap), USE_GPU/print_every cell kept, docstrings/comments trimmed, TODO (student) cells skipped, final lines taking a validation batch and evaluating `F.cross_entropy(two_layer_fc(x, [w1, w2]), y)` appended)
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
import numpy as np

torch.manual_seed(0)
cifar10_train = TensorDataset(torch.randn(640, 3, 32, 32), torch.randint(0, 10, (640,)))
cifar10_val = TensorDataset(torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,)))
cifar10_train.train, cifar10_val.train = True, True
loader_train = DataLoader(cifar10_train, batch_size=64)
loader_val = DataLoader(cifar10_val, batch_size=64)

USE_GPU = True
dtype = torch.float32 # we will be using float throughout this tutorial
if USE_GPU and torch.cuda.is_available():
    device = torch.device('cuda')
else:
    device = torch.device('cpu')
print_every = 100
print('using device:', device)
def flatten(x):
    N = x.shape[0] # read in N, C, H, W
    return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image

import torch.nn.functional as F  # useful stateless functions
def two_layer_fc(x, params):
    x = flatten(x)  # shape: [batch_size, C x H x W]
    w1, w2 = params
    x = F.relu(x.mm(w1))
    x = x.mm(w2)
    return x
def random_weight(shape):
    if len(shape) == 2:  # FC weight
        fan_in = shape[0]
    else:
        fan_in = np.prod(shape[1:]) # conv weight [out_channel, in_channel, kH, kW]
    w = torch.randn(shape, device=device, dtype=dtype) * np.sqrt(2. / fan_in)
    w.requires_grad = True
    return w
def check_accuracy_part2(loader, model_fn, params):
    split = 'val' if loader.dataset.train else 'test'
    print('Checking accuracy on the %s set' % split)
    num_correct, num_samples = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)  # move to device, e.g. GPU
            y = y.to(device=device, dtype=torch.int64)
            scores = model_fn(x, params)
            _, preds = scores.max(1)
            num_correct += (preds == y).sum()
            num_samples += preds.size(0)
        acc = float(num_correct) / num_samples
        print('Got %d / %d correct (%.2f%%)' % (num_correct, num_samples, 100 * acc))
def train_part2(model_fn, params, learning_rate):
    for t, (x, y) in enumerate(loader_train):
        x = x.to(device=device, dtype=dtype)
        y = y.to(device=device, dtype=torch.long)
        scores = model_fn(x, params)
        loss = F.cross_entropy(scores, y)
        loss.backward()
        with torch.no_grad():
            for w in params:
                w -= learning_rate * w.grad
                w.grad.zero_()
        if t % print_every == 0:
            print('Iteration %d, loss = %.4f' % (t, loss.item()))
            check_accuracy_part2(loader_val, model_fn, params)
            print()

hidden_layer_size = 4000
learning_rate = 1e-2
w1 = random_weight((3 * 32 * 32, hidden_layer_size))
w2 = random_weight((hidden_layer_size, 10))
train_part2(two_layer_fc, [w1, w2], learning_rate)
x, y = next(iter(loader_val))
F.cross_entropy(two_layer_fc(x, [w1, w2]), y)
