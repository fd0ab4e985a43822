# source: fastai/fastbook clean/04_mnist_basics.ipynb @098e12df ("Creating an Optimizer" cells) (what was changed: MNIST_SAMPLE image files replaced by synthetic 28x28 tensors (torch.manual_seed(0), 64+64 train / 32+32 valid), fastai imports replaced by torch + inline `tensor = torch.tensor`, torch DataLoader/nn used for fastai's, helper cells from earlier sections (mnist_loss, calc_grad, batch_accuracy, validate_epoch) included, fastai SGD/Learner cells dropped, train_model(linear_model, 20) kept, final expression `mnist_loss(linear_model(batch), train_y[:4])` appended)
import torch
from torch import nn
from torch.utils.data import DataLoader
tensor = torch.tensor  # inline stand-in for fastai's tensor()

torch.manual_seed(0)
threes, sevens = range(64), range(64)  # synthetic stand-ins for the image file lists
stacked_threes, stacked_sevens = torch.rand(64, 28, 28), torch.rand(64, 28, 28)
valid_3_tens, valid_7_tens = torch.rand(32, 28, 28), torch.rand(32, 28, 28)

train_x = torch.cat([stacked_threes, stacked_sevens]).view(-1, 28*28)
train_y = tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)
dset = list(zip(train_x,train_y))
valid_x = torch.cat([valid_3_tens, valid_7_tens]).view(-1, 28*28)
valid_y = tensor([1]*len(valid_3_tens) + [0]*len(valid_7_tens)).unsqueeze(1)
valid_dset = list(zip(valid_x,valid_y))
dl = DataLoader(dset, batch_size=256)
valid_dl = DataLoader(valid_dset, batch_size=256)
batch = train_x[:4]

def mnist_loss(predictions, targets):
    predictions = predictions.sigmoid()
    return torch.where(targets==1, 1-predictions, predictions).mean()

def calc_grad(xb, yb, model):
    preds = model(xb)
    loss = mnist_loss(preds, yb)
    loss.backward()

def batch_accuracy(xb, yb):
    preds = xb.sigmoid()
    correct = (preds>0.5) == yb
    return correct.float().mean()

def validate_epoch(model):
    accs = [batch_accuracy(model(xb), yb) for xb,yb in valid_dl]
    return round(torch.stack(accs).mean().item(), 4)

lr = 1.
linear_model = nn.Linear(28*28,1)
w,b = linear_model.parameters()
w.shape,b.shape

class BasicOptim:
    def __init__(self,params,lr): self.params,self.lr = list(params),lr

    def step(self, *args, **kwargs):
        for p in self.params: p.data -= p.grad.data * self.lr

    def zero_grad(self, *args, **kwargs):
        for p in self.params: p.grad = None

opt = BasicOptim(linear_model.parameters(), lr)

def train_epoch(model):
    for xb,yb in dl:
        calc_grad(xb, yb, model)
        opt.step()
        opt.zero_grad()

validate_epoch(linear_model)

def train_model(model, epochs):
    for i in range(epochs):
        train_epoch(model)
        print(validate_epoch(model), end=' ')

train_model(linear_model, 20)
mnist_loss(linear_model(batch), train_y[:4])
