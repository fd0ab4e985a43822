# source: fastai/fastbook clean/04_mnist_basics.ipynb @098e12df ("The MNIST Loss Function" .. "Putting It All Together" cells) (what was changed: MNIST_SAMPLE image files replaced by synthetic uint8 28x28 tensors (torch.manual_seed(0), 64+64 train / 32+32 valid), fastai imports replaced by torch + inline stand-ins `tensor = torch.tensor` and `first()`, torch DataLoader used for fastai's DataLoader, exploratory cells (first init, corrects, weights[0] *= 1.0001, tiny DataLoader demos) dropped and the function definitions grouped before use, 20-epoch loop kept, final expression `mnist_loss(linear1(batch), train_y[:4])` appended)
import torch
from torch.utils.data import DataLoader
tensor = torch.tensor  # inline stand-in for fastai's tensor()
def first(x): return next(iter(x))  # inline stand-in for fastcore's first()

torch.manual_seed(0)
threes, sevens = range(64), range(64)  # synthetic stand-ins for the image file lists
three_tensors = [(torch.rand(28, 28)*255).to(torch.uint8) for o in threes]
seven_tensors = [(torch.rand(28, 28)*255).to(torch.uint8) for o in sevens]
valid_3_tens, valid_7_tens = torch.rand(32, 28, 28), torch.rand(32, 28, 28)

stacked_sevens = torch.stack(seven_tensors).float()/255
stacked_threes = torch.stack(three_tensors).float()/255

train_x = torch.cat([stacked_threes, stacked_sevens]).view(-1, 28*28)
train_y = tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)
train_x.shape,train_y.shape
dset = list(zip(train_x,train_y))
x,y = dset[0]
x.shape,y
valid_x = torch.cat([valid_3_tens, valid_7_tens]).view(-1, 28*28)
valid_y = tensor([1]*len(valid_3_tens) + [0]*len(valid_7_tens)).unsqueeze(1)
valid_dset = list(zip(valid_x,valid_y))

def init_params(size, std=1.0): return (torch.randn(size)*std).requires_grad_()

def linear1(xb): return xb@weights + bias

def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets==1, 1-predictions, predictions).mean()

weights = init_params((28*28,1))
bias = init_params(1)
dl = DataLoader(dset, batch_size=256)
xb,yb = first(dl)
xb.shape,yb.shape
valid_dl = DataLoader(valid_dset, batch_size=256)
batch = train_x[:4]
preds = linear1(batch)
loss = mnist_loss(preds, train_y[:4])
loss.backward()
weights.grad.shape,weights.grad.mean(),bias.grad

def calc_grad(xb, yb, model):
    preds = model(xb)
    loss = mnist_loss(preds, yb)
    loss.backward()

calc_grad(batch, train_y[:4], linear1)
weights.grad.mean(),bias.grad
weights.grad.zero_()
bias.grad.zero_();

def train_epoch(model, lr, params):
    for xb,yb in dl:
        calc_grad(xb, yb, model)
        for p in params:
            p.data -= p.grad*lr
            p.grad.zero_()

def batch_accuracy(xb, yb):
    preds = xb.sigmoid()
    correct = (preds>0.5) == yb
    return correct.float().mean()

def validate_epoch(model):
    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)

validate_epoch(linear1)
lr = 1.
params = weights,bias
train_epoch(linear1, lr, params)
validate_epoch(linear1)
for i in range(20):
    train_epoch(linear1, lr, params)
    print(validate_epoch(linear1), end=' ')
mnist_loss(linear1(batch), train_y[:4])
