# source: d2l-ai/d2l-en chapter_multilayer-perceptrons/dropout.md @v0.17.6 (pytorch tab, "from scratch" part) (what was changed: d2l import replaced by an inline `class d2l` with a train_ch3 reduced to d2l's train_epoch_ch3 update loop (Animator, metrics and asserts dropped), load_data_fashion_mnist replaced by synthetic 28x28 tensors (torch.manual_seed(0), 2 batches x 10 epochs), concise part dropped, final expression appended)
import torch
from torch import nn
from torch.utils import data


class d2l:  # inline stand-in for `from d2l import torch as d2l`
    def load_data_fashion_mnist(batch_size):
        train = data.TensorDataset(torch.rand(512, 1, 28, 28), torch.randint(0, 10, (512,)))
        test = data.TensorDataset(torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,)))
        return (data.DataLoader(train, batch_size, shuffle=True),
                data.DataLoader(test, batch_size, shuffle=False))

    def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
        for epoch in range(num_epochs):
            for X, y in train_iter:
                l = loss(net(X), y)
                updater.zero_grad()
                l.mean().backward()
                updater.step()


torch.manual_seed(0)

def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    # In this case, all elements are dropped out
    if dropout == 1:
        return torch.zeros_like(X)
    # In this case, all elements are kept
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)

X= torch.arange(16, dtype = torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256

dropout1, dropout2 = 0.2, 0.5

class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training = True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        # Use dropout only when training the model
        if self.training == True:
            # Add a dropout layer after the first fully connected layer
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            # Add a dropout layer after the second fully connected layer
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out


net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)

num_epochs, lr, batch_size = 10, 0.5, 256
loss = nn.CrossEntropyLoss(reduction='none')
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
trainer = torch.optim.SGD(net.parameters(), lr=lr)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)

X, y = next(iter(train_iter))
loss(net(X), y).mean()
