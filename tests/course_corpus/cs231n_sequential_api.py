# source: cs231n/cs231n.github.io assignments/2019/spring1819_assignment2.zip @3d84654 -> assignment2/PyTorch.ipynb (Part IV "PyTorch Sequential API" two-layer network, plus the course-provided flatten/check_accuracy_part34/train_part34 cells it uses) (what was changed: torchvision CIFAR-10 loading replaced by synthetic 3x32x32 TensorDatasets with a `.train` flag (torch.manual_seed(0); 10 train batches of 64, under chainrule's 2,000,000-element tensor cap), Module-API TwoLayerFC, test_* shape cells and TODO (student) cells skipped, docstrings trimmed, final lines taking a validation batch and evaluating the loss appended)
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
import torch.nn.functional as F  # useful stateless functions

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

def flatten(x):
    N = x.shape[0] # read in N, C, H, W
    return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image

def check_accuracy_part34(loader, model):
    if loader.dataset.train:
        print('Checking accuracy on validation set')
    else:
        print('Checking accuracy on test set')   
    num_correct = 0
    num_samples = 0
    model.eval()  # set model to evaluation mode
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)  # move to device, e.g. GPU
            y = y.to(device=device, dtype=torch.long)
            scores = model(x)
            _, preds = scores.max(1)
            num_correct += (preds == y).sum()
            num_samples += preds.size(0)
        acc = float(num_correct) / num_samples
        print('Got %d / %d correct (%.2f)' % (num_correct, num_samples, 100 * acc))

def train_part34(model, optimizer, epochs=1):
    model = model.to(device=device)  # move the model parameters to CPU/GPU
    for e in range(epochs):
        for t, (x, y) in enumerate(loader_train):
            model.train()  # put model to training mode
            x = x.to(device=device, dtype=dtype)  # move to device, e.g. GPU
            y = y.to(device=device, dtype=torch.long)
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if t % print_every == 0:
                print('Iteration %d, loss = %.4f' % (t, loss.item()))
                check_accuracy_part34(loader_val, model)
                print()

# We need to wrap `flatten` function in a module in order to stack it in nn.Sequential
class Flatten(nn.Module):
    def forward(self, x):
        return flatten(x)

hidden_layer_size = 4000
learning_rate = 1e-2
model = nn.Sequential(
    Flatten(),
    nn.Linear(3 * 32 * 32, hidden_layer_size),
    nn.ReLU(),
    nn.Linear(hidden_layer_size, 10),
)
# you can use Nesterov momentum in optim.SGD
optimizer = optim.SGD(model.parameters(), lr=learning_rate,
                     momentum=0.9, nesterov=True)
train_part34(model, optimizer)
x, y = next(iter(loader_val))
F.cross_entropy(model(x), y)
