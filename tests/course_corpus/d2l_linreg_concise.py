# source: d2l-ai/d2l-en chapter_linear-networks/linear-regression-concise.md @v0.17.6 (pytorch tab) (what was changed: `from d2l import torch as d2l` replaced by an inline `class d2l` holding `tensor`, `reshape` and `synthetic_data` (copied from d2l/torch.py), torch.manual_seed(0) added, 1000 examples cut to 60 (18 minibatch steps), final expression `l` appended)
import numpy as np
import torch
from torch.utils import data


class d2l:  # inline stand-in for `from d2l import torch as d2l`
    tensor = torch.tensor
    reshape = lambda x, *args, **kwargs: x.reshape(*args, **kwargs)

    def synthetic_data(w, b, num_examples):
        """Generate y = Xw + b + noise."""
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, d2l.reshape(y, (-1, 1))


torch.manual_seed(0)

true_w = d2l.tensor([2, -3.4])
true_b = 4.2
features, labels = d2l.synthetic_data(true_w, true_b, 60)

def load_array(data_arrays, batch_size, is_train=True):  #@save
    """Construct a PyTorch data iterator."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)

batch_size = 10
data_iter = load_array((features, labels), batch_size)

next(iter(data_iter))

# `nn` is an abbreviation for neural networks
from torch import nn
net = nn.Sequential(nn.Linear(2, 1))

net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)

loss = nn.MSELoss()

trainer = torch.optim.SGD(net.parameters(), lr=0.03)

num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X) ,y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
print('error in estimating w:', true_w - d2l.reshape(w, true_w.shape))
b = net[0].bias.data
print('error in estimating b:', true_b - b)
l
