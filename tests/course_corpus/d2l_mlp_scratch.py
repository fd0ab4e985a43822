# source: d2l-ai/d2l-en chapter_multilayer-perceptrons/mlp-scratch.md @v0.17.6 (pytorch tab) (what was changed: d2l import replaced by an inline `class d2l` with `reshape` and a train_ch3 reduced to d2l's train_epoch_ch3 update loop (Animator, metrics and accuracy asserts dropped), load_data_fashion_mnist replaced by synthetic 28x28 tensors (torch.manual_seed(0), 2 batches x 10 epochs), predict_ch3 cell dropped, final expression appended)
import torch
from torch import nn
from torch.utils import data


class d2l:  # inline stand-in for `from d2l import torch as d2l`
    reshape = lambda x, *args, **kwargs: x.reshape(*args, **kwargs)

    def load_data_fashion_mnist(batch_size):
        train = data.TensorDataset(torch.rand(512, 1, 28, 28), torch.randint(0, 10, (512,)))
        test = data.TensorDataset(torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,)))
        return (data.DataLoader(train, batch_size, shuffle=True),
                data.DataLoader(test, batch_size, shuffle=False))

    def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
        for epoch in range(num_epochs):
            if isinstance(net, torch.nn.Module):
                net.train()
            for X, y in train_iter:
                y_hat = net(X)
                l = loss(y_hat, y)
                if isinstance(updater, torch.optim.Optimizer):
                    updater.zero_grad()
                    l.mean().backward()
                    updater.step()
                else:
                    l.sum().backward()
                    updater(X.shape[0])


torch.manual_seed(0)

batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)

num_inputs, num_outputs, num_hiddens = 784, 10, 256

W1 = nn.Parameter(torch.randn(
    num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(
    num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))

params = [W1, b1, W2, b2]

def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X):
    X = d2l.reshape(X, (-1, num_inputs))
    H = relu(X@W1 + b1)  # Here '@' stands for matrix multiplication
    return (H@W2 + b2)

loss = nn.CrossEntropyLoss(reduction='none')

num_epochs, lr = 10, 0.1
updater = torch.optim.SGD(params, lr=lr)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)

X, y = next(iter(test_iter))
loss(net(X), y).mean()
